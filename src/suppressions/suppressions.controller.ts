import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { HttpResult } from '../common/http/http-result';
import { TextIdParam } from '../common/http/id-params';
import { ListSuppressionsQueryDto, PutSuppressionDto, SuppressionDto, SuppressionPageDto } from './dto/suppression.dto';
import { SuppressionsService } from './suppressions.service';

@ApiTags('suppressions')
@Controller('v1/suppressions')
export class SuppressionsController {
  constructor(private readonly suppressions: SuppressionsService) {}

  /** The suppression list, newest first, filtered by address or reason. */
  @Get()
  list(@Query() query: ListSuppressionsQueryDto): Promise<SuppressionPageDto> {
    return this.suppressions.list(query);
  }

  /** Get the suppression of one address. */
  @Get(':email')
  get(@TextIdParam('email') email: string): Promise<SuppressionDto> {
    return this.suppressions.get(email);
  }

  /** Suppress an address by hand (reason MANUAL; 201 when added, 200 when it was already listed: its note is replaced). */
  @Put(':email')
  @ApiCreatedResponse({ type: SuppressionDto, description: 'Added.' })
  @ApiOkResponse({ type: SuppressionDto, description: 'Already listed: its note is replaced.' })
  async put(@TextIdParam('email') email: string, @Body() dto: PutSuppressionDto): Promise<HttpResult<SuppressionDto>> {
    const { suppression, created } = await this.suppressions.put(email, dto);
    return new HttpResult(suppression, created ? HttpStatus.CREATED : HttpStatus.OK);
  }

  /** Remove an address from the list: mail flows to it again. */
  @Delete(':email')
  @HttpCode(HttpStatus.NO_CONTENT)
  remove(@TextIdParam('email') email: string): Promise<void> {
    return this.suppressions.remove(email);
  }
}
